"""Project roles (the default ones and a platform's custom ones) and project members."""
