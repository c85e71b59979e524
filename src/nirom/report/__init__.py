"""Reports for people: terminal tables now; plots and HTML as they come."""
