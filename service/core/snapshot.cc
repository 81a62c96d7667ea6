#include "service/core/snapshot.h"
