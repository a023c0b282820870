"""One search run, end to end: the validated config (`config`), what it searches (`problem`),
the boards it measures on (`boards`), its progress display (`progress`), the run directory's
layout (`layout`) and the run itself (`session.run_search`)."""
