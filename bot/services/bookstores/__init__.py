"""Partner bookstores: "you choose, we pay" vouchers, settlements and the lending balance."""
