"""The e-mail channel's adapters (issue 25): a letter's texts as a DKIM-signed message, and
the municipality's SMTP relay."""
