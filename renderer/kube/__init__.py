"""What Kubernetes and the pinned operator releases accept and run: names, quantities, cron
schedules, database versions and images (read by the rules, the engines and the validator)."""
