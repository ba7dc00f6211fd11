"""A `gpiod` that is not the one our Pi backend needs, as libgpiod 1's bindings are not:
importing what libgpiod 2 has fails. Put `tests/support/without_gpiod` on PYTHONPATH to see the
firmware's answer on a machine where some gpiod is installed, or none."""

raise ImportError("this gpiod is not libgpiod 2's bindings")
