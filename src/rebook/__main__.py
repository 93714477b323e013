from rebook.cli import main

main()
