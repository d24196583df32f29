"""Reports: HTML pages with maps and plots, written from results (never computing them). Figures
are drawn on bare :class:`matplotlib.figure.Figure` objects: pyplot and the user's backend are
left alone."""
