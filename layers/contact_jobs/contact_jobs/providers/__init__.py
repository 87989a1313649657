"""Provider clients. Each module speaks one ESP's API; ``base`` says what the workflow needs of them."""
