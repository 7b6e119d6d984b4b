"""Members (会员): monthly products (月卡套餐), monthly passes (月卡会员) and their renewals (续费记录)."""
