"""OData v2 as Exact speaks it: `$filter` expressions, query options and paging, and the two
wire formats (verbose JSON and Atom XML)."""
