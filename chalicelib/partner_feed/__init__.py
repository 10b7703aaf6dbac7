"""Partner events: a transactional outbox written with each change that concerns a partner, read as a feed
(`GET /partner/events`) and fanned out to the partner's webhooks (`chalicelib/partner_webhooks`)."""
