"""API plumbing shared by every app: settings name these classes in REST_FRAMEWORK."""
