"""Settings: ``files`` finds configs/ and reads YAML, ``schema`` checks it, ``settings`` holds the sections every
command and API call takes (read from the shipped files here alone, then passed down explicitly)."""
