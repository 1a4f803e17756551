"""The clerk's workbench: the queue, claiming and deciding tasks, supervisors' powers, and the counter."""
