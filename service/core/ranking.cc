#include "service/core/ranking.h"
