"""A writer process for the crash test: concurrent appends, each acknowledged index printed and flushed.

Run as ``python -m tests.integration.audit.crash_writer URL THREADS``; the signing key comes from
ORDERGUARD_AUDIT_KEY. It appends until killed.
"""

from __future__ import annotations

import itertools
import sys
import threading

from orderguard.audit.keys import load_signer
from orderguard.audit.log import AuditLog
from tests.integration.audit.helpers import order_entry


def main() -> None:
    url, threads = sys.argv[1], int(sys.argv[2])
    log = AuditLog(url, signer=load_signer())
    print_lock = threading.Lock()
    numbers = itertools.count()

    def writer() -> None:
        while True:
            number = next(numbers)
            index = log.append(order_entry(number))
            with print_lock:
                sys.stdout.write(f"{index} ord-{number}\n")
                sys.stdout.flush()

    workers = [threading.Thread(target=writer, daemon=True) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


if __name__ == "__main__":
    main()
