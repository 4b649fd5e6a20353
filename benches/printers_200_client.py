"""The Python side of benches/printers_200.rs: the same printers watched by
the client the anchors use, bambulabs-api, one `bambulabs_api.Printer` per
printer, all in this one process (each Printer runs its own paho-mqtt
network thread, as the library does).

    python printers_200_client.py HOST ACCESS_CODE SERIAL...

Only the MQTT side of each Printer is started (`mqtt_start`, not `connect`,
which would also start the camera client on port 6000). The library
connects to HOST:8883 (its port is fixed), user bblp, with certificate
checks off.

Prints `ready` once every client is connected and has heard its printer.
Then, for each line on stdin: `dump` prints one JSON line with what the
callbacks saw of the stamped reports (`[report, callback_ns - sent_ns]`,
both on the wall clock); end of stdin ends the process.
"""

import json
import logging
import sys
import threading
import time

from bambulabs_api import Printer

READY_WITHIN_S = 120


def main():
    host, code, serials = sys.argv[1], sys.argv[2], sys.argv[3:]
    # The library logs every connection at INFO; keep it quiet, as a
    # long-running watcher would.
    logging.getLogger().setLevel(logging.WARNING)
    logging.getLogger("bambulabs_api").setLevel(logging.WARNING)

    seen = []
    lock = threading.Lock()

    def on_message(_printer_client, _client, _userdata, msg):
        # The time the callback sees the report: the end of the Python
        # side's measurement (it has no delivery to make).
        now = time.time_ns()
        if b'"bench"' not in msg.payload:
            return
        stamp = json.loads(msg.payload).get("bench") or {}
        with lock:
            seen.append([stamp.get("report"), now - int(stamp.get("sent_ns", now))])

    printers = []
    for serial in serials:
        printer = Printer(host, code, serial)
        printer.mqtt_client.on_message_handler = on_message
        printer.mqtt_start()
        printers.append(printer)

    deadline = time.monotonic() + READY_WITHIN_S
    while True:
        connected = sum(1 for p in printers if p.mqtt_client_connected())
        heard = sum(1 for p in printers if p.mqtt_client_ready())
        if connected == len(printers) and heard == len(printers):
            break
        if time.monotonic() > deadline:
            print(f"not ready: {connected} connected, {heard} heard from", flush=True)
            sys.exit(1)
        time.sleep(0.2)
    print("ready", flush=True)

    for line in sys.stdin:
        if line.strip() == "dump":
            with lock:
                print(json.dumps(seen), flush=True)
    for p in printers:
        p.mqtt_client._client.disconnect()
        p.mqtt_stop()


if __name__ == "__main__":
    main()
