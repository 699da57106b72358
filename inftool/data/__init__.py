"""Stage: the resumable trajectory store and its exports."""
