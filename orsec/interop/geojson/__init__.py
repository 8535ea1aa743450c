"""GeoJSON (RFC 7946): validation and export."""
