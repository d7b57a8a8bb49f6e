module chanshapes

go 1.19
