"""Speed and scale measurements; each module is a script that prints its figures."""
