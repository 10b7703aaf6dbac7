"""Reviews: verified-purchase reviews, partner replies, flags and moderation, with exact ratings."""
