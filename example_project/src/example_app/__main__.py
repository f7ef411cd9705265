from example_app.cli import main

raise SystemExit(main())
