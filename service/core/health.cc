#include "service/core/health.h"
