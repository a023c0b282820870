"""One search run, end to end: what it searches (`problem`), the boards it measures on
(`boards`), its progress display (`progress`), its log (`log`) and the run itself
(`session.run_search`). Its configuration and directory layout sit below, in `linas_host.config`."""
