from glutecam.cli import main

main()
