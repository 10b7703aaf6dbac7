"""Partner webhooks: endpoints a partner registers, signed deliveries of its events from the job queue
(exponential backoff, a delivery log, replay), and the SSRF guard every target passes twice."""
