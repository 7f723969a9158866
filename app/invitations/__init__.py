"""User invitations: a platform's invitations of an email to the platform or to one of its projects."""
