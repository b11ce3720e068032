"""One-off campaigns: segments over the profile, campaign files, the audience and its fan-out."""
