"""The backend base classes every vendor composes from."""
