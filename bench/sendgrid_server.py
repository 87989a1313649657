"""The fake SendGrid in its own process for benchmarks, its account empty (a restore's target); prints its
base URL, then its ``DownloadHosts`` entry, once it listens. It applies uploads in this process, so its
memory (about 350 MiB per million contacts held) is never the measured process's."""

import threading

from sandbox.fake_sendgrid import FakeSendGrid, FakeSendGridOptions


def main() -> None:
    fake = FakeSendGrid(FakeSendGridOptions(seed_contacts=0)).start()
    print(fake.base_url, flush=True)
    print(fake.download_host, flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
