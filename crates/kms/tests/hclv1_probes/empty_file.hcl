# probe: a config holding only this comment: Boundary accepts it
