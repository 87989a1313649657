"""The fake Which50 in its own process for benchmarks; prints its base URL once it listens."""

import threading

from sandbox.fake_which50 import FakeWhich50, FakeWhich50Options


def main() -> None:
    fake = FakeWhich50(FakeWhich50Options()).start()
    print(fake.base_url, flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
