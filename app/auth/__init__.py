"""Sign-in, sign-out, password changes and session hygiene for the admin web."""
