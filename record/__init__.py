"""Server side: the recorder (MQTT -> store) and the session engine (sets, reps, metrics).

Runs beside the store, one recorder group and one engine per site; the edge service that
reads the devices is :mod:`ingest`."""
