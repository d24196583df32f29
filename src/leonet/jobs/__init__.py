"""Jobs that tie the stages together: scenario files in, results out."""
