"""Partners: applications, approval, profiles and commission rates."""
