"""The benchmark: `python -m bench` seeds a database, starts the portal as deployed, drives it from
this process over loopback and prints throughput, latency, page weight and memory (docs/performance.md)."""
