"""The dbfleet program (its console script, and ``python -m renderer``): Python's cyclic
collector is off from the first import on, as it is for the whole command (cli.run)."""
import gc

gc.disable()

from renderer.cli import run  # noqa: E402  (after the collector is off)

if __name__ == "__main__":
    run()
