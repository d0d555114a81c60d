"""Shadow deploys: a candidate version evaluated beside the live one on the same views, never trading."""
