"""What a run is given and what it leaves: the search configuration's schema (`schema`) and the
run directory's layout (`layout`). Below everything that reads them: the run, its report, the
firmware export and the commands."""
