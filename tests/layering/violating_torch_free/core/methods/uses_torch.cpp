// Fixture: LibTorch in a torch-free folder.
#include <torch/torch.h>
