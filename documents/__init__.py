"""Documents built from data already read: Word layout, report and summary renderers."""
