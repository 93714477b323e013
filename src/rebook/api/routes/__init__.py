"""The API's resources, one router each; `rebook.api.api` mounts them."""
