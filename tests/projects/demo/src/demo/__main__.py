from demo.core import main

raise SystemExit(main())
