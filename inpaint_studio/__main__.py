from inpaint_studio.cli import main

raise SystemExit(main())
