"""Quality measurement: metrics and the `restorer eval` commands."""
