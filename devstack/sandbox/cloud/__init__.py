"""What the DigitalOcean, Vultr and Linode stand-ins share: the providers' OpenAPI subsets as
their contract (`spec`), simulated servers that boot and take actions over time (`machines`),
fault controls (`faults`), the request log, and the ASGI plumbing (`app`, `control`)."""
