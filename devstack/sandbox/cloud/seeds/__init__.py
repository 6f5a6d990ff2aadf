"""What each stand-in offers: regions, sizes/plans/types and images, with the providers' real
slugs and ids as far as their specs, examples and public listings show."""
