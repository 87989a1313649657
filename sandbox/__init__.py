"""The local stack: moto for AWS, fake providers on 127.0.0.1, the real handlers and state machine."""
