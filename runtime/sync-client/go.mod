module tgc/sync-client

go 1.19
