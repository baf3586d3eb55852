"""What each catalog entry renders: units and their components (``plan``), with what the engines
share (``components``, ``locations``, ``connections``) and the Secrets the fleet reads."""
